// Placeholder until the MySQLSink stage lands.
