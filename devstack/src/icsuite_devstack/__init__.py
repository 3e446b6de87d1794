"""icsuite_devstack"""
