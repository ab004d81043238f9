"""rentmeter command line: `rentmeter collector|agent|token|machines|plan|session|usage|invoice|demo`."""
