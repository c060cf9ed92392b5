"""The REST door: Qdrant's HTTP/JSON API, converted to and from the domain."""
