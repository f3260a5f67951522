package fourd

import "strconv"

// ProcessType is the origin of a process: 4D's "Process Type" constants,
// with their 4D values. Internal processes have negative types, processes
// created by user code have positive types, 0 is None.
type ProcessType int

// The 54 process types of 4D, with their 4D numeric values.
const (
	TypeHTTPLogFlusher          ProcessType = -58
	TypeLoggerProcess           ProcessType = -57
	TypeHTTPListener            ProcessType = -56
	TypeHTTPWorkerPoolServer    ProcessType = -55
	TypeSQLListener             ProcessType = -54
	TypeSQLNetSessionManager    ProcessType = -53
	TypeSQLWorkerPoolServer     ProcessType = -52
	TypeDB4DListener            ProcessType = -51
	TypeDB4DMirror              ProcessType = -50
	TypeDB4DCron                ProcessType = -49
	TypeDB4DWorkerPoolUser      ProcessType = -48
	TypeDB4DGarbageCollector    ProcessType = -47
	TypeDB4DFlushCache          ProcessType = -46
	TypeDB4DIndexBuilder        ProcessType = -45
	TypeServerNetSessionManager ProcessType = -44
	TypeServerNetListener       ProcessType = -43
	TypeWorkerPoolSpare         ProcessType = -42
	TypeWorkerPoolInUse         ProcessType = -41
	TypeOtherInternalProcess    ProcessType = -40
	TypeMain4DProcess           ProcessType = -39
	TypeSOAPProcess             ProcessType = -33
	TypeWebServerSpareProcess   ProcessType = -32
	TypeClientManagerProcess    ProcessType = -31
	TypeCompilerProcess         ProcessType = -29
	TypeMonitorProcess          ProcessType = -26
	TypeInternalTimerProcess    ProcessType = -25
	TypeSQLMethodExecution      ProcessType = -24
	TypeMSCProcess              ProcessType = -22
	TypeRestoreProcess          ProcessType = -21
	TypeLogFileProcess          ProcessType = -20
	TypeBackupProcess           ProcessType = -19
	TypeInternal4DServerProcess ProcessType = -18
	TypeMethodEditorMacro       ProcessType = -17
	TypeOnExitProcess           ProcessType = -16
	TypeServerInterfaceProcess  ProcessType = -15
	TypeExecuteOnClientProcess  ProcessType = -14
	TypeWebServerProcess        ProcessType = -13
	TypeWebProcessOn4DRemote    ProcessType = -12
	TypeOther4DProcess          ProcessType = -10
	TypeExternalTask            ProcessType = -9
	TypeEventManager            ProcessType = -8
	TypeAppleEventManager       ProcessType = -7
	TypeSerialPortManager       ProcessType = -6
	TypeIndexingProcess         ProcessType = -5
	TypeCacheManager            ProcessType = -4
	TypeWebProcessNoContext     ProcessType = -3
	TypeDesignProcess           ProcessType = -2
	TypeMainProcess             ProcessType = -1
	TypeNone                    ProcessType = 0
	TypeExecuteOnServerProcess  ProcessType = 1
	TypeCreatedFromMenuCommand  ProcessType = 2
	TypeCreatedFromExecDialog   ProcessType = 3
	TypeOtherUserProcess        ProcessType = 4
	TypeWorkerProcess           ProcessType = 5
)

var processTypeNames = map[ProcessType]string{
	TypeHTTPLogFlusher:          "HTTP Log flusher",
	TypeLoggerProcess:           "Logger process",
	TypeHTTPListener:            "HTTP Listener",
	TypeHTTPWorkerPoolServer:    "HTTP Worker pool server",
	TypeSQLListener:             "SQL Listener",
	TypeSQLNetSessionManager:    "SQL Net Session manager",
	TypeSQLWorkerPoolServer:     "SQL Worker pool server",
	TypeDB4DListener:            "DB4D Listener",
	TypeDB4DMirror:              "DB4D Mirror",
	TypeDB4DCron:                "DB4D Cron",
	TypeDB4DWorkerPoolUser:      "DB4D Worker pool user",
	TypeDB4DGarbageCollector:    "DB4D Garbage collector",
	TypeDB4DFlushCache:          "DB4D Flush cache",
	TypeDB4DIndexBuilder:        "DB4D Index builder",
	TypeServerNetSessionManager: "ServerNet Session manager",
	TypeServerNetListener:       "ServerNet Listener",
	TypeWorkerPoolSpare:         "Worker pool spare",
	TypeWorkerPoolInUse:         "Worker pool in use",
	TypeOtherInternalProcess:    "Other internal process",
	TypeMain4DProcess:           "Main 4D process",
	TypeSOAPProcess:             "SOAP process",
	TypeWebServerSpareProcess:   "Web server spare process",
	TypeClientManagerProcess:    "Client manager process",
	TypeCompilerProcess:         "Compiler process",
	TypeMonitorProcess:          "Monitor process",
	TypeInternalTimerProcess:    "Internal timer process",
	TypeSQLMethodExecution:      "SQL Method execution process",
	TypeMSCProcess:              "MSC process",
	TypeRestoreProcess:          "Restore Process",
	TypeLogFileProcess:          "Log file process",
	TypeBackupProcess:           "Backup process",
	TypeInternal4DServerProcess: "Internal 4D server process",
	TypeMethodEditorMacro:       "Method editor macro process",
	TypeOnExitProcess:           "On exit process",
	TypeServerInterfaceProcess:  "Server interface process",
	TypeExecuteOnClientProcess:  "Execute on client process",
	TypeWebServerProcess:        "Web server process",
	TypeWebProcessOn4DRemote:    "Web process on 4D remote",
	TypeOther4DProcess:          "Other 4D process",
	TypeExternalTask:            "External task",
	TypeEventManager:            "Event manager",
	TypeAppleEventManager:       "Apple event manager",
	TypeSerialPortManager:       "Serial Port Manager",
	TypeIndexingProcess:         "Indexing process",
	TypeCacheManager:            "Cache manager",
	TypeWebProcessNoContext:     "Web process with no context",
	TypeDesignProcess:           "Design process",
	TypeMainProcess:             "Main process",
	TypeNone:                    "None",
	TypeExecuteOnServerProcess:  "Execute on server process",
	TypeCreatedFromMenuCommand:  "Created from menu command",
	TypeCreatedFromExecDialog:   "Created from execution dialog",
	TypeOtherUserProcess:        "Other user process",
	TypeWorkerProcess:           "Worker process",
}

// String returns the 4D constant name of the type, e.g. "HTTP Listener",
// or the number for a value 4D does not define.
func (t ProcessType) String() string {
	if s, ok := processTypeNames[t]; ok {
		return s
	}
	return strconv.Itoa(int(t))
}

// Internal reports whether the type is one of 4D's internal process types
// (negative values).
func (t ProcessType) Internal() bool { return t < 0 }

// ProcessState is the state of a process: 4D's "Process State" constants,
// with their 4D values.
type ProcessState int

// The process states of 4D, with their 4D numeric values. The obsolete
// "_o_Hidden modal dialog" (6) is never returned, as in 4D since v16.
const (
	StateDoesNotExist           ProcessState = -100
	StateAborted                ProcessState = -1
	StateExecuting              ProcessState = 0
	StateDelayed                ProcessState = 1
	StateWaitingForUserEvent    ProcessState = 2
	StateWaitingForInputOutput  ProcessState = 3
	StateWaitingForInternalFlag ProcessState = 4
	StatePaused                 ProcessState = 5
)

// String returns the 4D constant name of the state, e.g. "Executing".
func (s ProcessState) String() string {
	switch s {
	case StateDoesNotExist:
		return "Does not exist"
	case StateAborted:
		return "Aborted"
	case StateExecuting:
		return "Executing"
	case StateDelayed:
		return "Delayed"
	case StateWaitingForUserEvent:
		return "Waiting for user event"
	case StateWaitingForInputOutput:
		return "Waiting for input output"
	case StateWaitingForInternalFlag:
		return "Waiting for internal flag"
	case StatePaused:
		return "Paused"
	}
	return strconv.Itoa(int(s))
}

// Live reports whether a process in this state is still running: neither
// Aborted nor Does not exist (4D's "Process state(n) >= Executing").
func (s ProcessState) Live() bool { return s >= StateExecuting }
