"""HTTP and WebSocket server (FastAPI) for the dashboards."""
