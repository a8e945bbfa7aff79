// Placeholder: the example lands with issue 6.
