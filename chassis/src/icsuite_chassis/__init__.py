"""icsuite_chassis"""
