"""GSM modem line: answers calls and reads keys through a SIM800, EC25 or SIM7600 module."""
