-- Notifications of Bpium tasks: one row per task and employee, written by the scenario RecordNotification and read
-- by DailyReport. sent_at is an instant as ISO 8601 text in UTC (how a date parameter is bound on SQLite), so text
-- order is time order.
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL CHECK (task_id <> ''),
  employee_id TEXT NOT NULL CHECK (employee_id <> ''),
  email TEXT NOT NULL CHECK (email <> ''),
  sent_at TEXT NOT NULL,
  UNIQUE (task_id, employee_id)
);
CREATE INDEX notifications_sent_at ON notifications (sent_at);
