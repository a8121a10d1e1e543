"""The HTML pages: one blueprint module per page family (``map_pages``: ``/``, ``/route``,
``/watershed``; ``data_page``: ``/data``), their Folium builders in :mod:`webmap.pages.maps` beside them, and
their scripts in ``webmap/static/atlas/`` (``atlas.js`` the page object and its hooks,
one hook file per feature)."""
