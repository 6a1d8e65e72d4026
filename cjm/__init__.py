"""CJM Warehouse: live Customer Journey Maps from brand mentions and CRM events."""

__version__ = "0.1.0"
