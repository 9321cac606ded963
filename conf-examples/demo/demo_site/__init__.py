"""pyfresh's demo site: edit views.py or greeting.py and refresh the page."""
