"""Surface-water quality at the national sections (GB 3838-2002).

* :mod:`geo.water.gb3838` — the standard's Table 1 as data and the single-factor
  classification of samples (class, controlling items, exceedance multiples).
* :mod:`geo.water.series` — monthly and annual means and their classes, the share
  of samples meeting a section's target.
* :mod:`geo.water.sheet` — monitoring sheets as stations send them: values such as
  ``<0.01`` or ``0.01L``, Chinese headers with units, section names and dates.
"""
