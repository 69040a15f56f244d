"""Every write to the household registry, one module per aggregate.

Who may write: the staff of the household's office (office manager and
facilitators), the province manager of its province, and national admins.
Agency liaisons and analysts never write here and never read rows.

Each service is keyword-only, checks permission first (PermissionDenied),
validates (ValidationError naming the field), writes in one transaction with
optimistic locking on versioned rows (ConflictError), records an audit row
with personal data masked, and recomputes the vulnerability of every
household it touched in the same transaction.
"""
