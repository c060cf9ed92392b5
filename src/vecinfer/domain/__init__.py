"""Plain Python types that every layer speaks; protobuf never gets past api/."""
