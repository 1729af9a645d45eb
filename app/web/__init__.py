"""The web shell: HTTP routes, pages, the widget, templates, static files and their middleware."""
