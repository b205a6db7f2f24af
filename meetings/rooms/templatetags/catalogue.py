"""``{% catalogue_url %}``: the address of the active language's translations for scripts
(meetings/catalogue.py)."""

from django import template
from django.utils import translation

from meetings import catalogue

register = template.Library()


@register.simple_tag
def catalogue_url(bundle: str = "") -> str:
    """The whole catalogue, or only the strings of a bundle's modules (catalogue.BUNDLES)."""
    return catalogue.catalogue_url(translation.get_language() or "", bundle or "")
