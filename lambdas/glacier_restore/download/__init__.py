"""GlacierRestore Lambda function (handler in app.py)."""
