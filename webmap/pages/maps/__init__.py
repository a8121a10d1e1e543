"""The Folium map pages: one module per page, plus the parts they share.

``assets`` (self-hosted JS/CSS), ``basemaps`` (tile providers via xyzservices),
``i18n`` (UI strings in Chinese and English), ``base`` (the map every page starts
from, with its panels and the loader that fetches layers from the API), and the
pages ``atlas``, ``route`` and ``watershed``.
"""
