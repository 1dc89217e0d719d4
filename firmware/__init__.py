"""Device side of tinyreg: the deployment protocol and the virtual microcontroller runtime."""
