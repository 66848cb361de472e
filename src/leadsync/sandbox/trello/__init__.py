"""The Trello REST API emulator (``/1``): its objects, actions, routes and webhooks."""

__all__: list[str] = []
