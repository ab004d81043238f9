"""The agent's exceptions."""


class AgentError(Exception):
    """Base of the agent's errors; the message is a sentence for the operator."""


class NotEnrolled(AgentError):
    pass


class EnrollmentFailed(AgentError):
    pass
