"""The web interface: server-rendered pages at ``/`` on the same services and visibility rule as
the API (``/api/v1``), progressively enhanced with htmx (served from ``static/``).

How to add pages (the extension point; see README.md beside this file for the whole story):

1. Write a module with Litestar handlers that return `incidents.web.templating.page` and call
   the same services the API's controllers call (``db: NamedDependency[AsyncConnection]``,
   ``principal: NamedDependency[Principal | None]``, ``taxonomy: ...``).
2. Guard them by audience with ``guards=[require("secretariat")]`` (`incidents.web.pages`).
3. Export a ``PageGroup(name, handlers, navigation=[NavItem(N_("Inbox"), "/review",
   frozenset({"secretariat"}))])`` and add it to `incidents.web.site.page_groups`.
4. Templates go in ``templates/`` and extend ``base.html``; every string through ``_()``; forms
   carry ``{{ csrf_input | safe }}`` and show errors with ``macros/forms.html``.
"""
