"""The gunicorn worker's tests (tox -e gunicorn23, gunicorn27)."""
