"""The words every layer shares for what is on the table: colours, shapes, sizes, viewpoints."""
