"""A base for the middlewares that only act around the response: before the view runs and on
its response. Django calls a middleware in the mode of the chain it sits in (sync under WSGI
and the tests' client, async under Daphne); this answers in either, so none of them pushes a
request through a thread switch."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class AroundResponseMiddleware:
    """Subclasses override ``before`` (what it returns is handed to ``after``) and ``after``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def before(self, request: HttpRequest) -> object:
        return None

    def after(self, request: HttpRequest, response: HttpResponseBase, started: object):
        return response

    def __call__(self, request: HttpRequest):
        if self.async_mode:
            return self._acall(request)
        started = self.before(request)
        return self.after(request, self.get_response(request), started)

    async def _acall(self, request: HttpRequest):
        started = self.before(request)
        return self.after(request, await self.get_response(request), started)
