"""What a user may ask and do, as typed data, and how each front end renders it."""
