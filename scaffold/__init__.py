"""Generators that write code shaped like the house's own: ``just new-resource`` (new_resource.py).

Each renders Copier/Jinja templates from ``templates/<generator>/`` into a staging copy of the
repository, checks and completes the result there, and only then moves it into place.
"""
