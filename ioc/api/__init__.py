"""The FastAPI app: REST under /api/v1, live alerts over WebSocket, the operator console."""
