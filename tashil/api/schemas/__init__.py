"""The API's Schemas, one module per router: declared once, resolved from
model instances."""
