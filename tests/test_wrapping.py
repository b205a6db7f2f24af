"""The base of the middlewares that act around the response (request id, HTTP metrics, the
no-store header): in the chain's either mode it runs ``before`` and ``after`` around the
view, and says which mode it is in, so Django need not adapt it."""

import asyncio

from asgiref.sync import iscoroutinefunction
from django.http import HttpResponse
from django.test import RequestFactory

from meetings.wrapping import AroundResponseMiddleware


class Recording(AroundResponseMiddleware):
    def before(self, request):
        request.seen = ["before"]
        return "token"

    def after(self, request, response, started):
        request.seen.append(f"after:{started}")
        response["X-Seen"] = ",".join(request.seen)
        return response


def test_before_and_after_run_around_the_view_in_both_modes():
    request = RequestFactory().get("/")

    def view(request):
        request.seen.append("view")
        return HttpResponse("ok")

    async def async_view(request):
        return view(request)

    sync = Recording(view)
    assert not iscoroutinefunction(sync)
    assert sync(request)["X-Seen"] == "before,view,after:token"

    asynchronous = Recording(async_view)
    assert iscoroutinefunction(asynchronous)
    assert asyncio.run(asynchronous(request))["X-Seen"] == "before,view,after:token"
