// Placeholder until the DataGen stage lands.
