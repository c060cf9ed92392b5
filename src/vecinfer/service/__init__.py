"""The service core: every operation once, for both doors (gRPC and REST).

Doors convert their wire format to the plain domain types and call one method here; this
layer resolves inference objects, validates, takes locks, runs the engine off the event
loop, and times and counts the request.
"""
