"""Serving: the OpenAI-compatible server, the chat and the shared HTTP client (issue "serve")."""
