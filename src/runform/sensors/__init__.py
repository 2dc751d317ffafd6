"""Sensors as runform sees them: the virtual sensor firmware and the motion sources that drive it."""
