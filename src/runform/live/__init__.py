"""The live path: notifications in, decoded and synchronised samples through the core, messages
out to the hub. Asyncio lives here and at the edges, never in the core."""
