"""Strawberry types, inputs, enums and payloads: the shapes of the GraphQL contract. No SQL and
no rules here; field resolvers reach data only through the context's DataLoaders."""
