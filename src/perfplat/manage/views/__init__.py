"""The management area under /manage/: pages for people, rendered on the server with GOV.UK
Frontend, working without JavaScript.

Each view declares its permission rule with `requires` (checked on the object its URL names,
before the view runs) and the methods it answers with `answers`. Views stay thin: a form parses
the input, a service function checks permission, validates, makes the change and writes the
audit entry, and a domain error it raises is shown on the form beside the field it names.
Refusals (403), unknown objects (404) and not being signed in (to the sign-in page) are turned
into pages in one place, perfplat.frontend.views.domain_error_page.

The pages are split by resource into the modules of this package; `common` holds what several
of them share (and what the other areas' management pages reuse: `answers`, `MANAGE`).
"""
