module example.com/demo/worker

go 1.21

require (
	golang.org/x/text v0.3.6
	github.com/google/uuid v1.6.0
)
