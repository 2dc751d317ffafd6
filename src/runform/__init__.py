"""runform: real-time running-form monitor."""
__version__ = "0.1.0"
