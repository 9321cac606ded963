# Excluded from reloading (see the config): its state survives every reload.
import time

STARTED_AT = time.strftime("%H:%M:%S")
VISITS = []
