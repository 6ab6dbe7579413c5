"""Composition: settings, the ASGI app and its lifespan, authentication, the GraphQL schema built
from the resolvers' roots, and the command line. The only package that wires layers together."""
