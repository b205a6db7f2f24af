"""Which language a page is shown in: the one chosen with the switcher, else Vietnamese.

Django's LocaleMiddleware would follow the browser's Accept-Language, and many phones and hall
TVs in Vietnam run an English system: the screens must still open in Vietnamese.
"""

from django.conf import settings
from django.utils import translation


def chosen_language(cookie_value: str | None) -> str:
    if cookie_value:
        try:
            return translation.get_supported_language_variant(cookie_value)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


class ChosenLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = chosen_language(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        response.headers.setdefault("Vary", "Cookie")
        return response
