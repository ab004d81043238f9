"""What one report may carry: the collector refuses a report beyond these bounds (REJECTED), so the agent
keeps within them when it builds one. They mirror collector/metering/bounds.py (a test checks)."""

MAX_SAMPLES_PER_REPORT = 10_000
MAX_LOGINS = 256
MAX_LOGIN_FIELD_CHARS = 256  # user, terminal, host
MAX_GPUS_PER_SAMPLE = 64
MAX_PROCESSES_PER_GPU = 1024
MAX_UUID_CHARS = 80
MAX_GAPS_PER_REPORT = 100
MAX_GAP_REASON_CHARS = 200
