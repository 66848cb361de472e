"""The Airtable Web API emulator (``/v0``): its objects, cell values, formulas, routes and webhooks."""

__all__: list[str] = []
