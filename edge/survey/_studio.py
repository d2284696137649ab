"""Kept for imports of the old name: the Studio importer is edge.survey.studio."""

from .studio import Imported, ImportOptions, StudioImportError, import_file, import_flow

__all__ = ["ImportOptions", "Imported", "StudioImportError", "import_file", "import_flow"]
