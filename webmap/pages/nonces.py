"""Only the page's own scripts carry the nonce: marking them in a Folium map before it renders.

A page's inline scripts are the boot script (:func:`webmap.pages.map_pages.boot_script`,
which writes the nonce attribute itself), the ``<script>`` that Folium's figure template
wraps around every element's script macro, and the ``<script>`` blocks of the header
macros of Folium's elements (the map's ``L_NO_TOUCH`` switches).  These come from
templates; data reaches them only as JSON (``tojson``, :func:`~webmap.pages.maps.base.safe_json`).
:func:`mark_own_scripts` gives exactly these tags :func:`webmap.core.security.nonce_attribute`,
by rendering the figure and its header through templates that say so.  Anything else
in the page — a ``<script>`` in the body's HTML, or one that a value broke out into —
renders without a nonce, and the page's Content-Security-Policy does not let it run.

Examples
--------
>>> import folium
>>> m = folium.Map()
>>> mark_own_scripts(m)
>>> html = m.get_root().render()
>>> html.count(nonce_attribute()), html.count("<script>")  # the switches, the figure's
(2, 0)
"""

from __future__ import annotations

import re

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Environment

from ..core.security import nonce_attribute

#: An inline script tag as Folium's templates write it (no attributes at all).
_BARE_SCRIPT = re.compile(r"<script>")


def _with_nonce(text: str) -> str:
    return _BARE_SCRIPT.sub(f"<script{nonce_attribute()}>", text)


_ENV = Environment()
_ENV.filters["own_scripts"] = _with_nonce

#: branca's Figure template, the final script tagged.
_FIGURE = _ENV.from_string(
    "<!DOCTYPE html>\n"
    "<html>\n"
    "<head>\n"
    "{% if this.title %}<title>{{this.title}}</title>{% endif %}"
    "    {{this.header.render(**kwargs)}}\n"
    "</head>\n"
    "<body>\n"
    "    {{this.html.render(**kwargs)}}\n"
    "</body>\n"
    "<script" + nonce_attribute() + ">\n"
    "    {{this.script.render(**kwargs)}}\n"
    "</script>\n"
    "</html>\n")

#: branca's Element template for the figure's header: what the header macros of the
#: map's own elements wrote (named after them) gets its inline scripts tagged; anything
#: else (links, the boot script, which tags itself) is rendered as it is.
_HEADER = _ENV.from_string(
    "{% for name, element in this._children.items() %}\n"
    "    {% if name in this.atlas_macro_names %}{{ element.render(**kwargs)|own_scripts }}"
    "{% else %}{{ element.render(**kwargs) }}{% endif %}"
    "{% endfor %}")


def _macro_names(element: Element) -> set[str]:
    names = {element.get_name()} if isinstance(element, MacroElement) else set()
    for child in element._children.values():
        names |= _macro_names(child)
    return names


def mark_own_scripts(m: folium.Map) -> None:
    """Render ``m``'s page with the nonce placeholder on the scripts its templates write.

    Raises
    ------
    TypeError
        When the map's root is not branca's Figure (its template is the one copied here).
    """
    root = m.get_root()
    if type(root) is not Figure:
        raise TypeError(f"the page's root is a {type(root).__name__}, not branca's Figure")
    root._template = _FIGURE
    root.header._template = _HEADER
    root.header.atlas_macro_names = _macro_names(m)
