// Placeholder until the PostgresSource stage lands.
