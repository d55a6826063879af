"""Generators that write code shaped like the house's own: ``just new-resource`` (new_resource.py) and
``just new-service`` (new_service.py).

new-resource renders Copier/Jinja templates from ``templates/resource/`` into a staging copy of the
repository, checks and completes the result there, and only then moves it into place. new-service
renders the repository itself as a Copier template (copier.yml) and makes the copy a service with
service.py, Copier's task.
"""
