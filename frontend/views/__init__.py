from frontend.views.errors import error_400, error_403, error_404, error_500

__all__ = ["error_400", "error_403", "error_404", "error_500"]
