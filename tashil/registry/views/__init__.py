"""Pages of the household registry, one module per page group. Thin: parse,
call a selector or service, render. Rows are reached only through the
`access_*` fetchers in registry.permissions, so a household or person
outside the user's reach is a 404; an action the user may not take on a
row they see is a 403."""
