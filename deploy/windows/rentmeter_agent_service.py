"""The rentmeter agent as a Windows service (pywin32).

    pip install "rentmeter" pywin32
    python rentmeter_agent_service.py --startup auto install
    python rentmeter_agent_service.py start

Settings: C:\\ProgramData\\rentmeter\\agent.toml (see deploy/config/agent.toml.example); state in
C:\\ProgramData\\rentmeter\\state. For the first start set RENTMETER_AGENT_TOKEN in the service's environment
(the token is not read from the file), or enroll once by hand with `rentmeter agent run --token ...`.
"""

import os
import threading

import servicemanager
import win32event
import win32service
import win32serviceutil

from agent.config import AgentSettings
from agent.runner import Agent, enroll, open_channel

DATA = os.path.join(os.environ.get("PROGRAMDATA", r"C:\ProgramData"), "rentmeter")


class RentmeterAgentService(win32serviceutil.ServiceFramework):
    _svc_name_ = "rentmeter-agent"
    _svc_display_name_ = "rentmeter agent"
    _svc_description_ = "Samples this rented machine and reports its usage to the rentmeter collector."

    def __init__(self, args):
        super().__init__(args)
        self.stop_event = win32event.CreateEvent(None, 0, 0, None)
        self.agent = None

    def SvcStop(self):
        self.ReportServiceStatus(win32service.SERVICE_STOP_PENDING)
        if self.agent is not None:
            self.agent.stop()
        win32event.SetEvent(self.stop_event)

    def SvcDoRun(self):
        servicemanager.LogInfoMsg("rentmeter agent starting")
        settings = AgentSettings.load(
            os.environ, os.path.join(DATA, "agent.toml"), state_dir=os.path.join(DATA, "state")
        )
        channel = open_channel(settings)
        self.agent = Agent(settings, enroll(settings, channel), channel)
        runner = threading.Thread(target=self.agent.run)
        runner.start()
        win32event.WaitForSingleObject(self.stop_event, win32event.INFINITE)
        runner.join(30)


if __name__ == "__main__":
    win32serviceutil.HandleCommandLine(RentmeterAgentService)
