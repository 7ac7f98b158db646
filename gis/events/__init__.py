"""Events (事件), residence permits (居住证) and exchange with other regions (issue 9)."""
