"""The API clients at the edges: Airtable and Trello over one shared HTTP layer."""

from leadsync.clients.airtable import AirtableClient
from leadsync.clients.http import ApiHttp, RequestCounter
from leadsync.clients.pacing import Pacer
from leadsync.clients.trello import TrelloClient

__all__ = ["AirtableClient", "ApiHttp", "Pacer", "RequestCounter", "TrelloClient"]
